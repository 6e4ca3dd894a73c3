-- What a token is limited to, comma separated (`alerts:write,read`); NULL: everything its role
-- allows, as every token created before scopes existed.
ALTER TABLE api_tokens ADD COLUMN scopes TEXT;
