"""The pre-trade risk gate and trading states."""

from leand.risk.gate import Approved, Rejection, RiskGate, TradingState, UnapprovedOrderError
from leand.risk.limits import RiskConfig, RiskConfigError, RiskLimits, load_config

__all__ = ["Approved", "Rejection", "RiskConfig", "RiskConfigError", "RiskGate", "RiskLimits", "TradingState",
           "UnapprovedOrderError", "load_config"]
