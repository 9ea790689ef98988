"""gnngeno.metrics"""
