"""gnngeno.gr"""
