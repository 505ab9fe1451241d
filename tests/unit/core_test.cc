// Unit tests for core: filled in by its owner.
#include <gtest/gtest.h>
