// Unit tests for safetensors_writer (issue 4): filled in by its owner.
#include <gtest/gtest.h>
