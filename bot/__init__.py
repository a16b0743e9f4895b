"""The Telegram front (aiogram 3): turns updates into domain commands and read-model queries."""
