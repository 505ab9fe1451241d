// Unit tests for safetensors: filled in by its owner.
#include <gtest/gtest.h>
