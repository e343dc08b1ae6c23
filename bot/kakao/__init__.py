"""The KakaoTalk channel: a Kakao i Open Builder skill server driving the dialogue engine.

- `skill`: the documented skill request/response format as pydantic models, limits as validators;
- `render`: engine replies laid out within those limits (pure);
- `channel`: one skill request → one skill response, within Kakao's 5 seconds, with the
  customer's pending notifications on top (Kakao cannot message a user outside their turn);
- `server`: the HTTP endpoint (`POST /kakao/skill`), `build_kakao_app` and `helpdesk kakao`.
"""
