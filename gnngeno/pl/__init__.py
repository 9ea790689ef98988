"""gnngeno.pl"""
