"""gnngeno.io"""
