//! Problem documents in the caller's language: machine codes for every
//! field, English by default, Chinese for an `Accept-Language` preferring
//! it; every invalid field of a request reported at once; a refused
//! extension says why.

use serde_json::{json, Value};
use uuid::Uuid;

use crate::backend_tests;
use crate::helpers::{days_from_today, general_hazard, id_of, Call, Reply, TestApp};

backend_tests!(
    a_blank_hazard_names_every_required_field_at_once,
    problems_are_chinese_for_a_chinese_caller_and_english_otherwise,
    a_refusal_of_an_extension_needs_a_reason,
    the_main_bodies_report_every_invalid_field_at_once,
    a_mistyped_credit_code_is_named_by_its_fault,
    refusals_once_written_as_plain_text_have_codes_and_chinese,
    conflicts_name_what_collided_in_chinese_too,
    refused_bodies_have_codes_and_chinese,
    a_body_of_the_wrong_shape_names_every_field_at_once,
);

/// The codes of a problem's violations, by field.
fn codes(reply: &Reply) -> Vec<(String, String)> {
    reply.json["violations"]
        .as_array()
        .unwrap_or_else(|| panic!("no violations: {}", reply.text))
        .iter()
        .map(|v| {
            (
                v["field"].as_str().unwrap_or_default().to_owned(),
                v["code"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// The call with the `Accept-Language` given, if any.
fn with_language<'a>(call: Call<'a>, language: Option<&str>) -> Call<'a> {
    match language {
        Some(value) => call.header("accept-language", value),
        None => call,
    }
}

fn has_ascii_letters(text: &str) -> bool {
    text.chars().any(|c| c.is_ascii_alphabetic())
}

/// A Chinese message: no English word in it.
#[track_caller]
fn assert_chinese(text: &Value, context: &str) {
    let text = text
        .as_str()
        .unwrap_or_else(|| panic!("not a text: {context}"));
    assert!(!has_ascii_letters(text), "English in {text:?}: {context}");
    assert!(
        text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
        "not Chinese: {text:?}: {context}"
    );
}

async fn a_blank_hazard_names_every_required_field_at_once(app: TestApp) {
    let park = app.park().await;
    let reply = app
        .post("/api/v1/hazards")
        .token(&park.expert)
        .json(&json!({}))
        .send()
        .await
        .expect_problem(422);
    let found = codes(&reply);
    for field in [
        "enterprise_id",
        "source",
        "title",
        "description",
        "location",
        "category",
        "level",
        "deadline",
    ] {
        assert!(
            found.contains(&(field.to_owned(), "required".to_owned())),
            "{field} not named as required: {}",
            reply.text
        );
        assert_eq!(reply.json["errors"][field], "is required", "{}", reply.text);
    }

    // Present but blank texts are reported together too, each by its rule.
    let mut body = general_hazard(park.enterprise_a);
    body["title"] = json!("");
    body["location"] = json!("   ");
    body["description"] = json!("a".repeat(10_001));
    body["category"] = json!("");
    let reply = app
        .post("/api/v1/hazards")
        .token(&park.expert)
        .json(&body)
        .send()
        .await
        .expect_problem(422);
    let found = codes(&reply);
    for (field, code) in [
        ("title", "required"),
        ("location", "blank"),
        ("description", "too_long"),
        ("category", "required"),
    ] {
        assert!(
            found.contains(&(field.to_owned(), code.to_owned())),
            "{field} not {code}: {}",
            reply.text
        );
    }
    let too_long = reply.json["violations"]
        .as_array()
        .and_then(|v| v.iter().find(|v| v["field"] == "description"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(too_long["params"], json!({"max": 10000}), "{}", reply.text);
    assert_eq!(too_long["message"], "must be at most 10000 characters");
}

async fn problems_are_chinese_for_a_chinese_caller_and_english_otherwise(app: TestApp) {
    let park = app.park().await;
    for (language, chinese) in [
        (Some("zh-CN"), true),
        (Some("zh-Hans,en;q=0.5"), true),
        (Some("en-US,zh-CN;q=0.8"), false),
        (None, false),
    ] {
        let context = format!("Accept-Language {language:?}");
        // A validation failure: detail and every message.
        let reply = with_language(app.post("/api/v1/hazards").token(&park.expert), language)
            .json(&json!({}))
            .send()
            .await
            .expect_problem(422);
        let violations = reply.json["violations"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(!violations.is_empty(), "{context}: {}", reply.text);
        if chinese {
            assert_eq!(reply.header("content-language"), Some("zh-CN"), "{context}");
            assert_eq!(
                reply.json["errors"]["title"], "必填",
                "{context}: {}",
                reply.text
            );
            for v in &violations {
                assert_chinese(&v["message"], &context);
                assert_eq!(v["code"], "required", "{context}");
            }
            let detail = reply.json["detail"].as_str().unwrap_or_default();
            assert!(detail.contains("title：必填"), "{context}: {detail}");
        } else {
            assert_eq!(reply.json["errors"]["title"], "is required", "{context}");
            assert!(
                violations.iter().all(|v| v["message"] == "is required"),
                "{context}: {}",
                reply.text
            );
            assert_eq!(reply.json["code"], "validation_failed");
        }

        // Problems that are not about fields: 404, 401, 405, an unknown path.
        for (call, status) in [
            (
                app.get(&format!("/api/v1/hazards/{}", Uuid::new_v4()))
                    .token(&park.expert),
                404,
            ),
            (app.get("/api/v1/hazards"), 401),
            (
                app.call(awc::http::Method::PUT, "/api/v1/hazards")
                    .token(&park.expert),
                405,
            ),
            (app.get("/api/v1/no-such-thing").token(&park.expert), 404),
        ] {
            let reply = with_language(call, language)
                .send()
                .await
                .expect_problem(status);
            let detail = &reply.json["detail"];
            if chinese {
                assert_chinese(detail, &format!("{context}, {status}: {}", reply.text));
            } else {
                assert!(
                    has_ascii_letters(detail.as_str().unwrap_or_default()),
                    "{context}, {status}: {}",
                    reply.text
                );
            }
        }
        let reply = with_language(
            app.get(&format!("/api/v1/hazards/{}", Uuid::new_v4()))
                .token(&park.expert),
            language,
        )
        .send()
        .await
        .expect_problem(404);
        let expected = if chinese {
            "隐患不存在。"
        } else {
            "hazard not found"
        };
        assert_eq!(reply.json["detail"], expected, "{context}");
    }

    // A rule with parameters: the deadline a plan may not move.
    let hazard = app
        .report(&park.expert, general_hazard(park.enterprise_a))
        .await;
    let id = id_of(&hazard);
    let deadline = hazard["deadline"].as_str().unwrap_or_default().to_owned();
    let reply = app
        .post(&format!("/api/v1/hazards/{id}/plan"))
        .token(&park.contact_a)
        .header("accept-language", "zh-CN")
        .json(&json!({"measures": "更换护栏", "deadline": days_from_today(60)}))
        .send()
        .await
        .expect_problem(422);
    let violation = &reply.json["violations"][0];
    assert_eq!(violation["field"], "deadline", "{}", reply.text);
    assert_eq!(violation["code"], "deadline_later_than_current");
    assert_eq!(violation["params"], json!({"current_deadline": deadline}));
    assert_eq!(
        violation["message"],
        format!("不能晚于当前整改期限{deadline}；如需延期，请申请延期")
    );
}

async fn a_refusal_of_an_extension_needs_a_reason(app: TestApp) {
    let park = app.park().await;
    let hazard = app
        .report(&park.expert, general_hazard(park.enterprise_a))
        .await;
    let id = id_of(&hazard);
    let extensions = format!("/api/v1/hazards/{id}/extensions");
    let requested = app
        .post(&extensions)
        .token(&park.contact_a)
        .json(&json!({"requested_deadline": days_from_today(30), "reason": "设备到货延迟"}))
        .send()
        .await
        .expect(201);
    let refuse = format!("{extensions}/{}/refuse", id_of(&requested.json));
    for body in [json!({}), json!({"reason": "  "}), json!({"note": ""})] {
        let reply = app
            .post(&refuse)
            .token(&park.supervisor)
            .json(&body)
            .send()
            .await
            .expect_problem(422);
        assert_eq!(
            codes(&reply),
            [("reason".to_owned(), "required".to_owned())],
            "{body}: {}",
            reply.text
        );
    }
    let refused = app
        .post(&refuse)
        .token(&park.supervisor)
        .json(&json!({"reason": "理由不充分"}))
        .send()
        .await
        .expect(200);
    assert_eq!(refused.json["deadline"], hazard["deadline"]);

    // Approving needs none.
    let requested = app
        .post(&extensions)
        .token(&park.contact_a)
        .json(&json!({"requested_deadline": days_from_today(30), "reason": "再次申请"}))
        .send()
        .await
        .expect(201);
    app.post(&format!("{extensions}/{}/approve", id_of(&requested.json)))
        .token(&park.supervisor)
        .json(&json!({}))
        .send()
        .await
        .expect(200);
}

async fn the_main_bodies_report_every_invalid_field_at_once(app: TestApp) {
    let park = app.park().await;
    let cases = [
        (
            "/api/v1/enterprises",
            &park.admin,
            json!({"name": " ", "credit_code": "nonsense", "status": "producing", "contact_emails": ["not-an-address"]}),
            vec!["name", "credit_code", "contact_emails[0]"],
        ),
        (
            "/api/v1/users",
            &park.admin,
            json!({"email": "nobody", "name": "", "role": "expert", "password": "x"}),
            vec!["email", "name", "password"],
        ),
        (
            "/api/v1/inspections",
            &park.expert,
            json!({
                "source": "resident_expert",
                "enterprise_id": park.enterprise_a,
                "checking_enterprise_id": park.enterprise_b,
                "inspected_on": days_from_today(5),
                "notes": "a".repeat(10_001),
            }),
            vec!["checking_enterprise_id", "inspected_on", "notes"],
        ),
        (
            "/api/v1/users",
            &park.admin,
            json!({}),
            vec!["email", "name", "role", "password"],
        ),
    ];
    for (path, token, body, fields) in cases {
        let reply = app
            .post(path)
            .token(token)
            .json(&body)
            .send()
            .await
            .expect_problem(422);
        let named: Vec<String> = codes(&reply).into_iter().map(|(field, _)| field).collect();
        for field in fields {
            assert!(
                named.iter().any(|n| n == field),
                "{path}: {field} not named: {}",
                reply.text
            );
        }
    }
}

/// A credit code refused says which of its rules it broke, with the
/// characters concerned, in the caller's language.
async fn a_mistyped_credit_code_is_named_by_its_fault(app: TestApp) {
    let park = app.park().await;
    let valid = crate::helpers::credit_code("mistyped");
    let last = valid.chars().last().unwrap();
    let wrong = if last == '0' { '1' } else { '0' };
    let mistyped = format!("{}{wrong}", &valid[..17]);
    for (body, code, zh) in [
        (
            json!({"name": "错码企业", "credit_code": mistyped, "status": "producing"}),
            "credit_code_check",
            "校验不符",
        ),
        (
            json!({"name": "短码企业", "credit_code": "91320500", "status": "producing"}),
            "credit_code_length",
            "这里是8位",
        ),
    ] {
        let reply = with_language(
            app.post("/api/v1/enterprises").token(&park.admin),
            Some("zh-CN"),
        )
        .json(&body)
        .send()
        .await
        .expect_problem(422);
        let violation = reply.json["violations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["field"] == "credit_code")
            .cloned()
            .unwrap_or_else(|| panic!("{}", reply.text));
        assert_eq!(violation["code"], code, "{}", reply.text);
        let message = violation["message"].as_str().unwrap();
        // Chinese around the code's own characters.
        assert!(message.contains(zh), "{message}");
    }
    let english = app
        .post("/api/v1/enterprises")
        .token(&park.admin)
        .json(&json!({"name": "错码企业", "credit_code": mistyped, "status": "producing"}))
        .send()
        .await
        .expect_problem(422);
    assert!(
        english.json["errors"]["credit_code"]
            .as_str()
            .is_some_and(|m| m.contains(&format!("the 18th character is '{wrong}'"))),
        "{}",
        english.text
    );
}

/// Refusals whose messages were plain English text (code `invalid`, no
/// Chinese) name their own rule and read in Chinese for a Chinese caller.
async fn refusals_once_written_as_plain_text_have_codes_and_chinese(app: TestApp) {
    let park = app.park().await;
    let in_three_years = (chrono::Utc::now() + chrono::Duration::days(3 * 366)).to_rfc3339();
    for (call, body, field, code) in [
        (
            app.post("/api/v1/users").token(&park.admin),
            Some(json!({
                "email": "screen@park.example.cn",
                "name": "大屏",
                "role": "display",
                "password": "correct horse battery",
            })),
            "role",
            "role_not_for_users",
        ),
        (
            app.post("/api/v1/display-keys").token(&park.admin),
            Some(json!({"name": "中控室大屏", "expires_at": in_three_years})),
            "expires_at",
            "expires_too_far",
        ),
        (
            app.get("/api/v1/changes?kinds=register,nonsense")
                .token(&park.admin),
            None,
            "kinds",
            "not_a_change_kind",
        ),
    ] {
        let call = with_language(call, Some("zh-CN"));
        let reply = match body {
            Some(body) => call.json(&body).send().await,
            None => call.send().await,
        }
        .expect_problem(422);
        assert_eq!(
            codes(&reply),
            [(field.to_owned(), code.to_owned())],
            "{}",
            reply.text
        );
        let context = format!("{code}: {}", reply.text);
        // The kind refused is named as it was sent, in Chinese quotes.
        let message = &reply.json["errors"][field];
        if code == "not_a_change_kind" {
            assert_eq!(message, "“nonsense”不是变更类型之一", "{context}");
        } else {
            assert_chinese(message, &context);
        }
        assert_eq!(
            reply.json["violations"][0]["message"], *message,
            "{context}"
        );
    }
}

/// The same request twice, in Chinese and with no `Accept-Language`: the
/// Chinese problem and the English one.
async fn refused_in_both<'a>(call: impl Fn(Option<&'static str>) -> Call<'a>) -> (Reply, Reply) {
    let chinese = call(Some("zh-CN")).send().await.expect_problem(409);
    let english = call(None).send().await.expect_problem(409);
    (chinese, english)
}

/// A Chinese detail that names `value` and has no other English in it.
#[track_caller]
fn assert_chinese_naming(reply: &Reply, value: &str, code: &str) {
    let detail = reply.json["detail"].as_str().unwrap_or_default();
    assert!(detail.contains(value), "{value} not named: {}", reply.text);
    assert_chinese(&json!(detail.replace(value, "")), &reply.text);
    assert_eq!(reply.json["detail_code"], code, "{}", reply.text);
}

async fn conflicts_name_what_collided_in_chinese_too(app: TestApp) {
    use crate::risk::{created, local_in, measure_of};
    let park = app.park().await;

    // A check occurrence recorded twice.
    let (measure, _) = measure_of(
        &app,
        &park.contact_a,
        park.enterprise_a,
        json!({"method": "ls", "l": 3, "s": 5}),
    )
    .await;
    let task = created(
        &app,
        &park.contact_a,
        "/api/v1/check-tasks",
        json!({
            "measure_id": measure,
            "kind": "post_check",
            "assignee_role": "enterprise",
            "schedule": {"every": 1, "unit": "day", "starts": local_in(-3 * 24 - 6)},
        }),
    )
    .await;
    let path = format!("/api/v1/check-tasks/{}/records", id_of(&task));
    let record = |language: Option<&'static str>| {
        with_language(app.post(&path).token(&park.contact_a), language)
            .json(&json!({"occurrence": 3, "outcome": "normal"}))
    };
    record(None).send().await.expect(201);
    let (chinese, english) = refused_in_both(record).await;
    assert_chinese_naming(&chinese, "3", "occurrence_recorded");
    assert_eq!(chinese.json["detail"], "该任务第3次排查已有记录。");
    assert_eq!(chinese.json["detail_params"], json!({"occurrence": 3}));
    assert_eq!(
        english.json["detail"], "occurrence 3 of the task is already recorded",
        "{}",
        english.text
    );
    assert_eq!(english.json["detail_code"], "occurrence_recorded");

    // A user whose email is taken.
    let email = "taken@park.example.cn";
    let add_user = |language: Option<&'static str>| {
        with_language(app.post("/api/v1/users").token(&park.admin), language).json(&json!({
            "email": email,
            "name": "王五",
            "role": "expert",
            "password": "a long enough password",
        }))
    };
    add_user(None).send().await.expect(201);
    let (chinese, english) = refused_in_both(add_user).await;
    assert_chinese_naming(&chinese, email, "email_taken");
    assert_eq!(
        english.json["detail"],
        format!("a user with the email {email} already exists"),
        "{}",
        english.text
    );

    // A hazard submitted before it has a plan: its state is named.
    let hazard = app
        .post("/api/v1/hazards")
        .token(&park.expert)
        .json(&general_hazard(park.enterprise_a))
        .send()
        .await
        .expect(201);
    let submit_path = format!("/api/v1/hazards/{}/submit", id_of(&hazard.json));
    let submit = |language: Option<&'static str>| {
        with_language(app.post(&submit_path).token(&park.contact_a), language).json(&json!({}))
    };
    let (chinese, english) = refused_in_both(submit).await;
    assert_eq!(
        chinese.json["code"], "invalid_transition",
        "{}",
        chinese.text
    );
    assert_chinese(&chinese.json["detail"], &chinese.text);
    let detail = chinese.json["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("“待制定整改方案”"), "{detail}");
    assert!(detail.contains("“整改中”"), "{detail}");
    assert_eq!(chinese.json["detail_code"], "not_in_state");
    assert_eq!(
        english.json["detail"],
        "cannot submit the rectification of a hazard that is reported; \
         this is only possible when it is rectifying",
        "{}",
        english.text
    );
}

/// A body refused before it is read as the request (not JSON by its
/// content type, not JSON at all) names what is wrong by a code, in
/// Chinese for a Chinese caller around the parser's own words, and in
/// the same English as ever otherwise.
async fn refused_bodies_have_codes_and_chinese(app: TestApp) {
    let park = app.park().await;
    let body = serde_json::to_vec(&general_hazard(park.enterprise_a)).unwrap();
    let malformed = b"{not json".to_vec();
    for (content_type, body, status, code, params, english) in [
        (
            "text/plain",
            body,
            415,
            "not_json_content_type",
            json!({"content_type": "application/json"}),
            "the request body must be application/json",
        ),
        (
            "application/json",
            malformed,
            400,
            "body_not_json",
            json!({"reason": "key must be a string at line 1 column 2"}),
            "the request body is not valid JSON: key must be a string at line 1 column 2",
        ),
    ] {
        let send = |language| {
            with_language(app.post("/api/v1/hazards").token(&park.expert), language)
                .raw(content_type, body.clone())
                .send()
        };
        let chinese = send(Some("zh-CN")).await.expect_problem(status);
        assert_eq!(chinese.json["detail_code"], code, "{}", chinese.text);
        assert_eq!(chinese.json["detail_params"], params, "{}", chinese.text);
        let detail = chinese.json["detail"].as_str().unwrap_or_default();
        let value = params.as_object().unwrap().values().next().unwrap();
        let value = value.as_str().unwrap();
        // The content type is named as it is written; a parser's cause is
        // said in Chinese, with its place.
        let detail = detail.replace(value, "");
        assert_chinese(&json!(detail), code);
        if code == "body_not_json" {
            assert!(detail.contains("（第1行第2列）"), "{detail}");
        }

        let plain = send(None).await.expect_problem(status);
        assert_eq!(plain.json["detail"], english, "{}", plain.text);
        assert_eq!(plain.json["detail_code"], code, "{}", plain.text);
    }
    // A query string's fault, said in Chinese; its English cause kept.
    let send = |language| {
        with_language(
            app.get("/api/v1/hazards?limit=ten").token(&park.expert),
            language,
        )
        .send()
    };
    let chinese = send(Some("zh-CN")).await.expect_problem(400);
    assert_eq!(chinese.json["detail_code"], "query_string_invalid");
    assert_eq!(
        chinese.json["detail"], "查询参数有误：应为数字。",
        "{}",
        chinese.text
    );
    let plain = send(None).await.expect_problem(400);
    assert_eq!(
        plain.json["detail_params"]["reason"],
        "Query deserialize error: invalid digit found in string",
        "{}",
        plain.text
    );
}

/// A body whose values are of the wrong type, with a field the request
/// does not have, is refused once, naming each field, in Chinese for a
/// Chinese caller.
async fn a_body_of_the_wrong_shape_names_every_field_at_once(app: TestApp) {
    let park = app.park().await;
    let body = json!({"name": 5, "expires_at": "明天", "screen": "中控室"});
    let send = |language| {
        with_language(
            app.post("/api/v1/display-keys").token(&park.admin),
            language,
        )
        .json(&body)
        .send()
    };
    let chinese = send(Some("zh-CN")).await.expect_problem(422);
    assert_eq!(
        codes(&chinese),
        [
            ("expires_at".to_owned(), "not_a_time".to_owned()),
            ("name".to_owned(), "not_a_string".to_owned()),
            ("screen".to_owned(), "unknown_field".to_owned()),
        ],
        "{}",
        chinese.text
    );
    let detail = chinese.json["detail"].as_str().unwrap_or_default();
    for field in ["expires_at", "name", "screen"] {
        let message = &chinese.json["errors"][field];
        assert_chinese(message, field);
        let message = message.as_str().unwrap_or_default();
        assert!(detail.contains(message), "{detail}");
    }
    let plain = send(None).await.expect_problem(422);
    assert_eq!(
        plain.json["errors"]["name"], "must be a text",
        "{}",
        plain.text
    );
    assert_eq!(
        plain.json["errors"]["screen"], "is not a field of this request",
        "{}",
        plain.text
    );
    // Nothing was made.
    let keys = app
        .get("/api/v1/display-keys")
        .token(&park.admin)
        .send()
        .await
        .expect(200);
    assert_eq!(
        keys.json["items"].as_array().map(Vec::len),
        Some(0),
        "{}",
        keys.text
    );
}
