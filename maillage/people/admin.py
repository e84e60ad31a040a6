"""Nothing from this app is registered in the admin, on purpose.

Children, households and guardians are nominative data. The admin does not go through the scopes of
``maillage.permissions`` nor write the access journal, so registering them would be a back door
around the policy. They are reached only through the application's pages. A test
(``tests/www/test_admin.py``) fails if someone registers them.
"""
