"""The Variations API: variations, their options and modifiers, and the variations a product
names."""
