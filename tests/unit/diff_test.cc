// Unit tests for diff (issue 4): filled in by its owner.
#include <gtest/gtest.h>
