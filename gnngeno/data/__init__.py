"""gnngeno.data"""
