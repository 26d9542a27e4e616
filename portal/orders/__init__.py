"""Customer orders that become work orders: products, a versioned decision table that
turns each approved line's products into work orders, work notes that follow them, a
point of no return per line, and the rule that an order closes only when its work is done."""
