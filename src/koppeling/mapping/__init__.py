"""The Datamapper: tables that map source values (payment methods, shops, VAT rates) to target ids."""
