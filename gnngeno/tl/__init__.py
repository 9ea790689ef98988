"""gnngeno.tl"""
