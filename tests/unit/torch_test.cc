// Unit tests for torch: filled in by its owner.
#include <gtest/gtest.h>
