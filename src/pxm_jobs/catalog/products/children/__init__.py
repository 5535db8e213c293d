"""Child products: the combinations a base product's variations make, and building them."""
