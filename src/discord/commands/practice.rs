//! `/practice`: the member's next card, privately — due reviews first, then new questions.
//! The card's buttons (Reveal, the grades, Next) are answered in `discord::practice::clicks`.

use super::ask::{autocomplete_category, autocomplete_tag, build_filter, DifficultyChoice};
use super::reply;
use crate::discord::practice::next_card;
use crate::discord::{Context, Error};

/// Practise your own cards: due reviews first, then new questions (spaced repetition).
#[poise::command(slash_command)]
pub async fn practice(
    ctx: Context<'_>,
    #[description = "Only questions of this category"]
    #[autocomplete = "autocomplete_category"]
    category: Option<String>,
    #[description = "Only questions with this tag"]
    #[autocomplete = "autocomplete_tag"]
    tag: Option<String>,
    #[description = "Only questions of this difficulty"] difficulty: Option<DifficultyChoice>,
) -> Result<(), Error> {
    let app = ctx.data().clone();
    let bank = app.bank();
    let filter = build_filter(&bank, category, tag, difficulty.map(Into::into), None)?;
    let view = next_card(
        &app,
        ctx.author().id.get(),
        &filter,
        ctx.guild_id().map(|g| g.get()),
        None,
    )?;
    let card = view
        .embeds
        .into_iter()
        .fold(reply(true), |r, e| r.embed(e))
        .components(view.components);
    ctx.send(card).await?;
    Ok(())
}
