"""Search analytics: every search recorded with its `query_id`, what shoppers then did with
its results (views, clicks, add-to-cart, purchases), and the report built from both."""
