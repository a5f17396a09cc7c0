"""koppeling: moves webshop sales into accounting packages, exactly once, explained."""

__version__ = "0.1.0"
