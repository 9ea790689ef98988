"""gnngeno.pp"""
