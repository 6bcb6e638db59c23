"""Test and benchmark support (like ``transformers.testing_utils``): independent reference
implementations used to check the package's fast code. Not used by the package itself."""
