"""Provides `sandbox check`: a suite of Entra checks run through the real engine against any
SCIM endpoint (see `suite.run_checks`)."""

from sandbox.check.model import CheckReport, CheckResult
from sandbox.check.suite import CheckOptions, run_checks

__all__ = ["CheckOptions", "CheckReport", "CheckResult", "run_checks"]
