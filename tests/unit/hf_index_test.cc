// Unit tests for hf_index: filled in by its owner.
#include <gtest/gtest.h>
