// Unit tests for torch_writer (issue 4): filled in by its owner.
#include <gtest/gtest.h>
