// Unit tests for pickle: filled in by its owner.
#include <gtest/gtest.h>
