"""Price books, their prices and modifiers, and the price book import, over HTTP."""
