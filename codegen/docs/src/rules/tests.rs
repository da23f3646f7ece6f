//! The rules' tests: one per rule, on sentences from the pages, plus the
//! never-panics sweeps over garbage, the seed pages and the corpus.

use feishu_spec::{AccessToken, AppType, EnumValue, RateLimit, Scope};
use serde_json::Number;

use super::*;

fn ev(pairs: &[(&str, &str)]) -> Vec<EnumValue> {
    pairs
        .iter()
        .map(|(v, d)| EnumValue { value: v.to_string(), description: d.to_string() })
        .collect()
}

fn int(n: i64) -> Option<Number> {
    Some(n.into())
}

fn range(min: Option<Number>, max: Option<Number>, unit: Unit) -> Option<Range> {
    Some(Range { min, max, unit })
}

fn scope(name: &str, description: &str) -> Scope {
    Scope { name: name.into(), description: description.into() }
}

type Single = fn(&str) -> Option<String>;

fn check_singles(cases: &[(Single, &str, Option<&str>)]) {
    for (rule, text, want) in cases {
        assert_eq!(rule(text).as_deref(), *want, "{text:?}");
    }
}

#[test]
fn example_values() {
    let auth = "tenant_access_token 或 user_access_token 值格式:\"Bearer access_token\" 示例值:\"Bearer u-7f1b\" 了解更多:如何选择与获取 access token";
    let gfm = "`tenant_access_token` **值格式**：\"Bearer `access_token`\" **示例值**：\"Bearer t-7f1\" [了解更多：如何选择与获取 access token](https://x/y)";
    check_singles(&[
        (example_value, "机器人发送的消息 ID。\n**示例值**：\"om_xxx\"", Some("om_xxx")),
        (
            example_value,
            "是否以话题形式回复。\n**示例值**：false\n**默认值**：`false`",
            Some("false"),
        ),
        (example_value, "emoji 类型。 示例值:\"SMILE\" |", Some("SMILE")),
        (example_value, "**示例值**：10  ", Some("10")),
        (example_value, "**示例值**：[\"a\"]", Some("[\"a\"]")),
        (example_value, "**示例值**：“中文”", Some("中文")),
        (
            example_value,
            "消息内容\n**示例值**：\"`{\\\"text\\\":\\\"test content\\\"}`\"",
            Some("{\\\"text\\\":\\\"test content\\\"}"),
        ),
        // One-line pages: the value stops at its closing quote or at the next rule.
        (example_value, auth, Some("Bearer u-7f1b")),
        (example_value, gfm, Some("Bearer t-7f1")),
        (example_value, "说明 示例值:10 默认值:20", Some("10")),
        (example_value, "说明 示例值:10 可选值有: - a: 甲", Some("10")),
        (example_value, "ID 示例值：3 [了解更多：x](https://a.b/c)", Some("3")),
        (example_value, "分页大小<br>**示例值**：10<br>**默认值**：`20`", Some("10")),
        (example_value, "**示例值**：\"\"", Some("")),
        (example_value, "**示例值**：\"unterminated", Some("unterminated")),
        (example_value, "以下示例代码默认根据文档示例值填充", None),
        (example_value, "**示例**:  \n**数据校验规则**:\n最大长度: 3", None),
        (example_value, "**示例值**：\n**默认值**：`1`", None),
    ]);
}

#[test]
fn default_fixed_and_format_values() {
    let gfm =
        "`tenant_access_token` **值格式**：\"Bearer `access_token`\" **示例值**：\"Bearer t-7f1\"";
    check_singles(&[
        (default_value, "**默认值**：`false`", Some("false")),
        (default_value, "默认值：10", Some("10")),
        (default_value, "**默认值**：`[1]`", Some("[1]")),
        (default_value, "说明 示例值:10 默认值:20", Some("20")),
        (default_value, "不传则使用默认值", None),
        (
            fixed_value,
            "**固定值**：\"application/json; charset=utf-8\"",
            Some("application/json; charset=utf-8"),
        ),
        (
            fixed_value,
            "固定值:\"multipart/form-data; boundary=---7MA4\"",
            Some("multipart/form-data; boundary=---7MA4"),
        ),
        (
            value_format,
            "`tenant_access_token`\n**值格式**：\"Bearer `access_token`\"\n**示例值**：\"x\"",
            Some("Bearer access_token"),
        ),
        (value_format, gfm, Some("Bearer access_token")),
        (
            value_format,
            "值格式:\"Bearer access_token\" 示例值:\"Bearer u-7\"",
            Some("Bearer access_token"),
        ),
    ]);
}

#[test]
fn enum_values_one_per_line() {
    let text = "语言类型。\n**示例值**：\"en_us\"\n**可选值有**：\n- en_us：英文  \n- zh_cn：简体中文\n- zh_hk：繁体中文-香港\\";
    assert_eq!(
        enum_values(text),
        ev(&[("en_us", "英文"), ("zh_cn", "简体中文"), ("zh_hk", "繁体中文-香港")])
    );
    let text = "**可选值有**：\n- `open_id`：表示 open id\n- `user`: 用户\n- `empty`:\n**默认值**：`open_id`";
    assert_eq!(
        enum_values(text),
        ev(&[("open_id", "表示 open id"), ("user", "用户"), ("empty", "")])
    );
    let flat = "是否加入离职屏蔽名单。可选值有：  \n-true：是  \n-false：否  \n**字段权限要求（满足任一）**：";
    assert_eq!(enum_values(flat), ev(&[("true", "是"), ("false", "否")]));
    let text = "流程状态 可选值有 - \"inProgress\"：审批中\n- \"rejected\"：已拒绝";
    assert_eq!(enum_values(text), ev(&[("inProgress", "审批中"), ("rejected", "已拒绝")]));
    assert_eq!(enum_values("流程状态  \n可选值有\n- `a`：甲"), ev(&[("a", "甲")]));
    assert_eq!(
        enum_values("状态，可能值有：\n- 1 = Inactive / 停用\n- 2 = Active / 启用"),
        ev(&[("1", "Inactive / 停用"), ("2", "Active / 启用")])
    );
    assert_eq!(
        enum_values("是否启用，可选项有：  \n- true\n- false"),
        ev(&[("true", ""), ("false", "")])
    );
}

#[test]
fn enum_values_on_one_line() {
    let gfm = "用户 ID 类型\n**可选值有**：- `open_id`: desc one - `union_id`: desc two - `user_id`: desc three\n**默认值**：`open_id`";
    assert_eq!(
        enum_values(gfm),
        ev(&[("open_id", "desc one"), ("union_id", "desc two"), ("user_id", "desc three")])
    );
    assert_eq!(
        enum_values("操作人身份。 可选值有: - app: 应用 - user: 用户"),
        ev(&[("app", "应用"), ("user", "用户")])
    );
    assert_eq!(
        enum_values("数据权限 可选值有：- 0: 无数据权限 - 1: 全部数据权限"),
        ev(&[("0", "无数据权限"), ("1", "全部数据权限")])
    );
    assert_eq!(
        enum_values("是否必填 **可选值有**： * `true`：必填 * `false`：非必填"),
        ev(&[("true", "必填"), ("false", "非必填")])
    );
    let prose =
        "**可选值有**：\n- `1`: 中国 - 居民身份证 - `2`: 护照 - `3`: 见 https://x.y/z - 说明: 无";
    assert_eq!(
        enum_values(prose),
        ev(&[("1", "中国 - 居民身份证"), ("2", "护照"), ("3", "见 https://x.y/z - 说明: 无")])
    );
    let link = "**可选值有**：\n- `open_id`: 同一用户。[了解更多：如何获取 Open ID](https://open.feishu.cn/a) - `union_id`: 开发商\n**当值为 `user_id`，字段权限要求**： `contact:user.employee_id:readonly` 获取用户 user ID";
    assert_eq!(
        enum_values(link).iter().map(|e| e.value.as_str()).collect::<Vec<_>>(),
        ["open_id", "union_id"]
    );
    assert_eq!(
        enum_values(link)[0].description,
        "同一用户。[了解更多：如何获取 Open ID](https://open.feishu.cn/a)"
    );
}

#[test]
fn enum_list_ends() {
    let text = "**可选值有**：\n- text：文本\n- post：富文本\n\n不同消息类型的详细介绍，参见发送消息内容。\n\n**示例值**：\"text\"";
    assert_eq!(enum_values(text), ev(&[("text", "文本"), ("post", "富文本")]));
    assert_eq!(
        enum_values("**可选值有**：\n- 1：离职发起\n- 2：审批通过\n其他说明\n- 3：不是这个列表的")
            .len(),
        2
    );
    assert_eq!(
        enum_values("**可选值有**：- `a`: 甲 - `b`: 乙 不同消息类型的说明 - `c`: 丙"),
        ev(&[("a", "甲"), ("b", "乙")])
    );
    assert_eq!(
        enum_values("可选值有：\n- `a`: 甲\n**数据校验规则**：\n- 长度范围：`1` ～ `3`"),
        ev(&[("a", "甲")])
    );
    assert_eq!(
        enum_values("可选值如下：\n- a：甲\n- a：重复\n可能值有：\n- b：乙"),
        ev(&[("a", "甲"), ("b", "乙")])
    );
    for text in [
        "ID 获取方式: - 调用发送消息接口后, 获取。 - 监听: 事件",
        "**可选值有**：\n说明文字\n- a：甲",
        "可选值有限，请联系管理员",
        // A keyword inside a list item opens that item's sub-list, not the field's values.
        "说明\n- ==org_key==：管理维度。可选项有  \n    - 部门：==department==",
        "说明 - ==org_key==：管理维度。可选项有 - 部门：==department==",
    ] {
        assert_eq!(enum_values(text), vec![], "{text:?}");
    }
}

#[test]
fn length_ranges() {
    let (none, chars, bytes) = (Unit::None, Unit::Chars, Unit::Bytes);
    for (text, want) in [
        ("**数据校验规则**：\n- 长度范围：`1` ～ `200` 字符", range(int(1), int(200), chars)),
        ("长度范围：`0` ～ `50`", range(int(0), int(50), none)),
        ("长度范围: `1` ～ `3`", range(int(1), int(3), none)),
        ("长度范围：`1`~`1,000`字符", range(int(1), int(1000), chars)),
        ("- 长度范围：`10` ～ `10` 字符 - 正则校验：`^[0-9]+$`", range(int(10), int(10), chars)),
        ("最大长度：`50` 字符", range(None, int(50), chars)),
        ("最大长度：`50`", range(None, int(50), none)),
        ("最小长度：`1` 字符", range(int(1), None, chars)),
        ("**数据校验规则**:\n最大长度: 3最小长度: 1", range(int(1), int(3), none)),
        ("最小长度为 1 字符，最大长度为100字符", range(int(1), int(100), chars)),
        ("最大值：`4,096 个 UTF-8 编码的字符`", range(None, int(4096), chars)),
        ("最大值：`100,000 个 UTF-16 编码的字符`", range(None, int(100_000), chars)),
        ("最大长度 1024 个 Unicode 码点。", range(None, int(1024), chars)),
        ("最大长度为 `256` 字节", range(None, int(256), bytes)),
        ("最大长度：`64` B", range(None, int(64), bytes)),
        ("最大长度**： 50<br>**注意**：x", range(None, int(50), none)),
        ("**最大长度**：\n50\n**注意**：x", range(None, int(50), none)),
        ("最大值：`100`", None),
        ("最大长度（字符），按标识符切片时必须填写", None),
        ("最大长度限制", None),
        ("取值范围：`1` ～ `100`", None),
        ("没有规则", None),
    ] {
        assert_eq!(length_range(text), want, "{text:?}");
    }
}

#[test]
fn value_ranges() {
    let r = |a: Option<Number>, b: Option<Number>| range(a, b, Unit::None);
    for (text, want) in [
        ("取值范围：`1` ～ `100`", r(int(1), int(100))),
        ("取值范围：`-90` ～ `90`", r(int(-90), int(90))),
        ("取值范围：`0.0` ～ `1.0`", r(Number::from_f64(0.0), Number::from_f64(1.0))),
        ("取值范围：[1,100]", r(int(1), int(100))),
        ("取值范围[0,255]", r(int(0), int(255))),
        ("取值范围为 (0,5000]。", r(None, int(5000))),
        ("取值范围1-168，单位是小时。", r(int(1), int(168))),
        ("取值范围**: `0` - `8`", r(int(0), int(8))),
        ("取值范围： 1  ～  999999 ", r(int(1), int(999_999))),
        ("最大值：`100`", r(None, int(100))),
        ("最小值：`1`", r(int(1), None)),
        ("最小值：`-1`\n最大值：`20`", r(int(-1), int(20))),
        ("取值范围：`0` ～ `9223372036854775807`", r(int(0), int(i64::MAX))),
        ("取值范围：`0` ～ `18446744073709551615`", r(int(0), Some(u64::MAX.into()))),
        ("取值范围：`-10000000000000000000` ～ `0`", r(Number::from_f64(-1e19), int(0))),
        ("取值范围：0 ~ content.length", r(int(0), None)),
        ("最大值：2099-12-31", None),
        ("最小值： 1900-01-01 - 最大值：9999-12-31", None),
        ("取值范围为TZ database name", None),
        ("取值范围为：-1 或 0 < revision_id", None),
        ("最大值，不返回 has_more 参数", None),
        ("最大值：`100,000 个 UTF-16 编码的字符`", None),
        ("版本 v1.2，10:30", None),
    ] {
        assert_eq!(value_range(text), want, "{text:?}");
    }
}

#[test]
fn per_receiver_limits() {
    for (text, want) in [
        (
            "为避免消息发送频繁对用户造成打扰，向同一用户发送消息的限频为 ==5 QPS==、向同一群组发送消息的限频为群内机器人共享 ==5 QPS==。",
            Some(5),
        ),
        ("向同一用户发送消息的限频为 5 QPS，向同一群组发送消息的限频为 10 QPS", Some(5)),
        ("对同一个群每秒 2 次", Some(2)),
        ("同一会话 3 次/秒", Some(3)),
        // Figures about the app as a whole, or without a receiver, are not per receiver.
        ("接口频率限制为 50 QPS", None),
        ("同一用户只能创建一个。接口 50 QPS", None),
        ("同一用户 0 QPS", None),
        ("", None),
    ] {
        assert_eq!(per_receiver_limit(text), want, "{text}");
    }
}

#[test]
fn rate_limits() {
    let both = "1000 次/分钟、50 次/秒";
    let slow = "单个应用调用频率上限为每秒 3 次";
    for (text, second, minute, want) in [
        (both, Some(50), Some(1000), both),
        (
            "[1000 次/分钟、50 次/秒](https://open.feishu.cn/document/ukTMukTMukTM/uUzN04SN3QjL1cDN)",
            Some(50),
            Some(1000),
            both,
        ),
        (" 5 次/秒 ", Some(5), None, "5 次/秒"),
        ("[100 次/分钟](/ssl:ttdoc/x)", None, Some(100), "100 次/分钟"),
        ("10 次/小时", None, None, "10 次/小时"),
        ("[特殊频控](https://x/y)", None, None, "特殊频控"),
        ("特殊频控", None, None, "特殊频控"),
        ("租户维度 5 次/秒", Some(5), None, "租户维度 5 次/秒"),
        (slow, Some(3), None, slow),
    ] {
        assert_eq!(
            rate_limit(text),
            Some(RateLimit {
                per_second: second,
                per_minute: minute,
                per_receiver_per_second: None,
                text: want.into()
            })
        );
    }
    assert_eq!(rate_limit("  "), None);
    assert_eq!(rate_limit(""), None);
}

#[test]
fn app_type_cells() {
    use AppType::*;
    let both = ["custom,isv", "custom  isv", "isv,custom", "自建应用、商店应用"].map(app_types);
    assert_eq!(both, [vec![Custom, Isv], vec![Custom, Isv], vec![Custom, Isv], vec![Custom, Isv]]);
    assert_eq!(
        ["商店应用", "custom", "customer isvx"].map(app_types),
        [vec![Isv], vec![Custom], vec![]]
    );
}

#[test]
fn scope_cells() {
    let both = [
        scope("im:message", "获取与发送单聊、群组消息"),
        scope("im:message:send_as_bot", "以应用的身份发消息"),
    ];
    assert_eq!(
        scopes(
            "获取与发送单聊、群组消息(im:message)  \n以应用的身份发消息(im:message:send_as_bot)"
        ),
        both
    );
    assert_eq!(
        scopes(
            "获取与发送单聊、群组消息（im:message）以应用的身份发消息（im:message:send_as_bot）"
        ),
        both
    );
    let flat = "im:message 获取与发送单聊、群组消息 im:message.reactions:write_only 发送、删除消息表情回复";
    assert_eq!(
        scopes(flat),
        [both[0].clone(), scope("im:message.reactions:write_only", "发送、删除消息表情回复")]
    );
    let gfm = "`hire:auth:readonly` 获取招聘权限信息 `hire:auth` 更新招聘权限信息";
    assert_eq!(
        scopes(gfm),
        [scope("hire:auth:readonly", "获取招聘权限信息"), scope("hire:auth", "更新招聘权限信息")]
    );
    assert_eq!(
        scopes("im:message \n im:message:send_as_bot"),
        [scope("im:message", ""), scope("im:message:send_as_bot", "")]
    );
    assert_eq!(scopes("im:message <br> im:message:send_as_bot")[0], scope("im:message", ""));
    let cell = "**调用该 API 所需的权限。开启其中任意一项权限即可调用**  开启任一权限即可 | 编辑离职信息(corehr:offboarding.update:write)";
    assert_eq!(scopes(cell), [scope("corehr:offboarding.update:write", "编辑离职信息")]);
    let cell = "调用该 API 所需的权限。开启其中任意一项权限即可调用 开启任一权限即可 | `hire:auth:readonly` 获取招聘权限信息";
    assert_eq!(scopes(cell), [scope("hire:auth:readonly", "获取招聘权限信息")]);
    let tip = "> **Tip**: 该接口返回体中存在下列敏感字段，如果无需获取这些字段，则不建议申请 `contact:user.employee_id:readonly` 获取用户 user ID";
    assert_eq!(scopes(tip), [scope("contact:user.employee_id:readonly", "获取用户 user ID")]);
    assert_eq!(scopes("参见 [文档](/ssl:ttdoc/uAjLw4CM/x) 与 https://open.feishu.cn/a:b"), []);
    assert_eq!(scopes("im:message im:message"), [scope("im:message", "")]);
    assert_eq!(scopes("需要 im:message."), [scope("im:message", "")]);
    assert_eq!(scopes("没有权限 Im:Message 10:30"), []);
}

#[test]
fn access_token_cells() {
    use AccessToken::*;
    let auth = "`tenant_access_token`\n**值格式**：\"Bearer `access_token`\"\n**示例值**：\"Bearer u-7f1b\"\n[了解更多：如何选择与获取 access token](https://x)";
    let both =
        ["tenant_access_token 或 user_access_token", "user_access_token 或 tenant_access_token"]
            .map(access_tokens);
    assert_eq!(
        both,
        [vec![TenantAccessToken, UserAccessToken], vec![TenantAccessToken, UserAccessToken]]
    );
    let one = ["`tenant_access_token`", auth, "app_access_token", "token-user"].map(access_tokens);
    assert_eq!(
        one,
        [
            vec![TenantAccessToken],
            vec![TenantAccessToken],
            vec![AppAccessToken],
            vec![UserAccessToken]
        ]
    );
    let prose =
        ["了解更多：如何选择与获取 access token", "Bearer t-xxx", "tenant_access_token_id", ""]
            .map(access_tokens);
    assert!(prose.iter().all(Vec::is_empty), "{prose:?}");
}

#[test]
fn field_scope_rules() {
    let gfm = "用户 ID 类型\n**默认值**：`open_id`\n**当值为 `user_id`，字段权限要求**： `contact:user.employee_id:readonly` 获取用户 user ID";
    assert_eq!(field_scopes(gfm), [scope("contact:user.employee_id:readonly", "获取用户 user ID")]);
    let flat = "是否加入。\n**字段权限要求（满足任一）**：  \n获取名单(corehr:block_list:read)  \n读写名单(corehr:block_list:write)";
    assert_eq!(
        field_scopes(flat),
        [scope("corehr:block_list:read", "获取名单"), scope("corehr:block_list:write", "读写名单")]
    );
    let list = "字段权限要求：   - `a:b` 甲\n- `c:d` 乙\n**示例值**：\"e:f\"";
    assert_eq!(field_scopes(list), [scope("a:b", "甲"), scope("c:d", "乙")]);
    let bare = "国籍 - 字段权限要求   - `corehr:person.nationality:read` 读取员工国籍 - 可以调用[查询](https://x/y)接口";
    assert_eq!(field_scopes(bare), [scope("corehr:person.nationality:read", "读取员工国籍")]);
    let two = "**字段权限要求**：\n获取 x(p:q)\n**当值为 `union_id`，字段权限要求**：`r:s` 乙";
    assert_eq!(field_scopes(two), [scope("p:q", "获取 x"), scope("r:s", "乙")]);
    assert_eq!(field_scopes("im:message 获取消息"), []);
    assert_eq!(field_scopes("字段权限要求"), []);
}

#[test]
fn reads_everything() {
    let text = "语言类型。\n**示例值**：\"en_us\"\n**默认值**：`zh_cn`\n**可选值有**：\n- en_us：英文\n- zh_cn：简体中文\n**数据校验规则**：\n- 长度范围：`1` ～ `5` 字符";
    let rules = read(text);
    assert_eq!(
        (rules.example.as_deref(), rules.default.as_deref()),
        (Some("en_us"), Some("zh_cn"))
    );
    assert_eq!((rules.enum_values.len(), rules.values, rules.fixed), (2, None, None));
    assert_eq!(rules.length, range(int(1), int(5), Unit::Chars));
    assert_eq!(read("普通的字段说明，没有规则。"), Rules::default());
    assert_eq!(read(""), Rules::default());
}

fn everything(text: &str) {
    let _ = (
        read(text),
        value_format(text),
        rate_limit(text),
        app_types(text),
        scopes(text),
        access_tokens(text),
    );
}

#[test]
fn garbage_never_panics() {
    // The pieces the scanners look for, combined, then cut at every char boundary.
    let pieces = "**|：|:|- |-| - | * |`|\"|“|”|示例值|默认值|可选值有|可选值|长度范围|取值范围|最大值|最小长度|字段权限要求|当值为|\
        （|(|)|[|](|次/秒|每秒|1,0|9|~|～|字符|个|\n|a:b|é|😀|\u{3000}|\\|了解更多|/|不同消息类型|1.|B|=";
    let pieces: Vec<&str> = pieces.split('|').collect();
    for (i, a) in pieces.iter().enumerate() {
        for b in pieces.iter().skip(i % 7).step_by(5) {
            everything(&format!("{a}{b}{a}"));
            everything(&format!("{b}{a}{b}{a}"));
        }
    }
    let long = pieces.concat();
    for (i, _) in long.char_indices() {
        everything(&long[..i]);
        everything(&long[i..]);
    }
}

/// Runs every scanner on every table cell of the pages under `dir`;
/// returns how many pages it read. A folder it cannot read fails the test
/// (a sweep that read nothing proves nothing).
fn sweep(dir: &std::path::Path) -> usize {
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
    let mut pages = 0;
    for path in entries.map(|e| e.unwrap().path()) {
        if path.is_dir() {
            pages += sweep(&path);
        } else {
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            text.lines()
                .flat_map(|l| l.split('|'))
                .for_each(|cell| everything(&cell.replace("<br>", "\n")));
            pages += 1;
        }
    }
    pages
}

#[test]
fn seed_pages_never_panic() {
    let seeds = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/seeds");
    let pages = sweep(&seeds);
    assert!(pages > 0, "read no page of {}", seeds.display());
}

/// The 2,300-page corpus next to the project (skipped when it is absent,
/// failing then on CI, like every corpus test).
#[test]
#[ignore = "slow: reads the whole shared corpus"]
fn corpus_never_panics() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    let Some(dir) = feishu_testkit::corpus_folder("corpus_never_panics", &dir) else { return };
    let pages = sweep(&dir);
    assert!(pages > 2000, "read only {pages} pages of {}", dir.display());
}
