// Unit tests for zip: filled in by its owner.
#include <gtest/gtest.h>
