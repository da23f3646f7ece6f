//! OpenAPI 3.1 export of the neutral Feishu API spec.
