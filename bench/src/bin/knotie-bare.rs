//! The requests a cold start of the `mcp` bootstrap must make, and nothing else, from exec
//! to exit: the AWS SDK configured as the bootstrap configures it, the pepper read from
//! Secrets Manager (while two reads open the connections to DynamoDB), then the token's
//! read, then its account's profile and policy beside the token's rate count written. Timed beside the bootstrap's cold start (`make bench`),
//! it separates what a fresh process pays the SDK and the stand-ins from this project's
//! own work (the runtime, the MCP server, the admission's decisions).
//!
//! Environment: the bootstrap's (`TABLE_NAME`, `PEPPER_SECRET_ID`, the AWS variables and
//! endpoints), and `TOKEN_KEY` (the partition key of a token's item, by its hash) and
//! `ACCOUNT_ID`, whose items it reads.

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, ReturnValue};
use knotie::model::ids::AccountId;
use knotie::store::keys;

type Item = std::collections::HashMap<String, AttributeValue>;

fn key(pk: String, sk: &str) -> Item {
    Item::from([
        (keys::PK.to_owned(), AttributeValue::S(pk)),
        (keys::SK.to_owned(), AttributeValue::S(sk.to_owned())),
    ])
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let var = |name: &str| std::env::var(name).map_err(|_| format!("{name} is not set"));
    let table = var("TABLE_NAME")?;
    let account = AccountId::parse(&var("ACCOUNT_ID")?).ok_or("ACCOUNT_ID is not an account id")?;
    let account = keys::account(&account);
    let sdk = knotie::aws::sdk_config().await;
    let secrets = aws_sdk_secretsmanager::Client::new(&sdk);
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);

    // As the bootstrap does, and as fast as it can be: the two connections the first
    // call uses are opened while the pepper is on its way.
    let open = || {
        dynamodb
            .get_item()
            .table_name(&table)
            .set_key(Some(key(keys::WARM_UP.into(), keys::WARM_UP)))
            .send()
    };
    let (pepper, first, second) = tokio::join!(
        secrets
            .get_secret_value()
            .secret_id(var("PEPPER_SECRET_ID")?)
            .send(),
        open(),
        open()
    );
    pepper?
        .secret_string()
        .ok_or("the pepper secret is empty")?;
    first?;
    second?;
    let token = dynamodb
        .get_item()
        .table_name(&table)
        .set_key(Some(key(var("TOKEN_KEY")?, keys::TOKEN_HASH_SK)))
        .consistent_read(true)
        .send()
        .await?;
    token.item().ok_or("no such token")?;
    let profile = KeysAndAttributes::builder()
        .keys(key(account.clone(), keys::PROFILE))
        .keys(key(account, keys::POLICY))
        .consistent_read(true)
        .build()?;
    let (profile, rate) = tokio::join!(
        dynamodb
            .batch_get_item()
            .request_items(&table, profile)
            .send(),
        dynamodb
            .update_item()
            .table_name(&table)
            .set_key(Some(key("RATE#bare".into(), keys::RATE_SK)))
            .update_expression("ADD #m :one")
            .expression_attribute_names("#m", "m0")
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .return_values(ReturnValue::AllNew)
            .send()
    );
    profile?;
    rate?;
    Ok(())
}
