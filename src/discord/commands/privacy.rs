//! `/forget-me`: a member deletes everything the bot stores about them, after a confirmation.

use poise::serenity_prelude as serenity;
use serenity::{
    ButtonStyle, ComponentInteraction, CreateActionRow, CreateButton, CreateEmbed,
    CreateInteractionResponse, CreateInteractionResponseMessage,
};
use tracing::info;

use crate::discord::custom_id::{self, CustomId};
use crate::discord::events::ephemeral;
use crate::discord::{render, App, Context, Error};

/// Delete everything the bot stores about you: reveals, quiz scores, your question history.
#[poise::command(slash_command, rename = "forget-me")]
pub async fn forget_me(ctx: Context<'_>) -> Result<(), Error> {
    let user = ctx.author().id.get();
    let embed = CreateEmbed::new()
        .title("Delete your data?")
        .description(
            "This deletes everything this bot stores about you, on every server: which \
             answers you revealed, your quiz scores (they leave the leaderboards), your \
             private question history, and your name on quiz rounds you started. It cannot \
             be undone.",
        )
        .colour(serenity::Colour::new(0xE74C3C));
    let buttons = CreateActionRow::Buttons(vec![
        CreateButton::new(custom_id::render(&CustomId::Forget {
            user,
            confirmed: true,
        }))
        .label("Delete my data")
        .style(ButtonStyle::Danger),
        CreateButton::new(custom_id::render(&CustomId::Forget {
            user,
            confirmed: false,
        }))
        .label("Cancel")
        .style(ButtonStyle::Secondary),
    ]);
    ctx.send(super::reply(true).embed(embed).components(vec![buttons]))
        .await?;
    Ok(())
}

/// A click on a confirmation button, whose custom id `events` has parsed. Only the member
/// who asked may confirm: a custom id can be forged, and deleting someone else's data must
/// not be one click away.
pub async fn on_click(
    ctx: &serenity::Context,
    app: &App,
    click: &ComponentInteraction,
    (owner, confirmed): (u64, bool),
) -> Result<(), Error> {
    if click.user.id.get() != owner {
        click
            .create_response(
                &ctx.http,
                ephemeral("Only the member who asked can confirm this. Use /forget-me yourself."),
            )
            .await?;
        return Ok(());
    }
    let text = if confirmed {
        // Live rounds first, or their next save would write the scores back.
        app.quiz.forget_player(owner);
        let gone = app.store.delete_member(owner).await?;
        info!(
            rows = gone.total(),
            "a member's data was deleted on request"
        );
        format!(
            "Done: your data is deleted ({} stored item{} removed). The bot keeps nothing \
             about you now; using it again starts afresh.",
            gone.total(),
            if gone.total() == 1 { "" } else { "s" }
        )
    } else {
        "Cancelled: nothing was deleted.".to_string()
    };
    // The confirmation message itself is replaced, so its buttons cannot be clicked twice.
    click
        .create_response(
            &ctx.http,
            CreateInteractionResponse::UpdateMessage(
                CreateInteractionResponseMessage::new()
                    .content(text)
                    .embeds(vec![])
                    .components(vec![])
                    .allowed_mentions(render::no_mentions()),
            ),
        )
        .await?;
    Ok(())
}
