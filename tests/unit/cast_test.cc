// Unit tests for cast (issue 4): filled in by its owner.
#include <gtest/gtest.h>
