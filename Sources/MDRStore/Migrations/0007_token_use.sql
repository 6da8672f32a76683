-- Token use and rotation (docs/api.md, Authentication and tokens).
--
-- last_used_at (since 0001) is written by TokenStore.authenticate at most once a minute per token, so that
-- authentication reads on every request but writes only when the recorded use is over a minute old.
--
-- replaced_by: the token `mdr token rotate` made to follow this one. The old token keeps working until its
-- expires_at (the end of the grace period), so a connector can switch over without a gap.
ALTER TABLE api_tokens ADD COLUMN replaced_by uuid REFERENCES api_tokens (token_id);
