"""Team sync: what travels between laptops and how it gets there."""
