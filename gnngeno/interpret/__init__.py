"""gnngeno.interpret"""
