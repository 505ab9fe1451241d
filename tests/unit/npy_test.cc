// Unit tests for npy: filled in by its owner.
#include <gtest/gtest.h>
