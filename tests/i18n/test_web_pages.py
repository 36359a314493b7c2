"""The web pages speak Russian after the language switch or with ``Accept-Language: ru``."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from phone_auth.sms import SmsMessage
from tests.support import code_from_outbox

pytestmark = pytest.mark.django_db

PHONE = "+79110000001"


def russian_client() -> Client:
    client = Client()
    response = client.post("/i18n/setlang/", {"language": "ru", "next": "/"})
    assert response.status_code == 302
    return client


def test_phone_page_in_russian_after_the_switch() -> None:
    html = russian_client().get("/").content.decode()
    assert '<html lang="ru">' in html
    assert "<title>Войти · Рефералы</title>" in html
    assert "Вход по номеру телефона" in html
    assert '<label for="id_phone">Номер телефона</label>' in html
    assert "В любом привычном формате: +7 911 000-00-00 или 8 911 000 00 00." in html
    assert ">Получить код</button>" in html
    assert "Документация API" in html
    assert "Sign in" not in html


def test_phone_page_in_russian_from_accept_language() -> None:
    html = Client().get("/", HTTP_ACCEPT_LANGUAGE="ru-RU,ru;q=0.9").content.decode()
    assert '<html lang="ru">' in html
    assert "Вход по номеру телефона" in html


def test_phone_page_in_english_by_default() -> None:
    html = Client().get("/").content.decode()
    assert '<html lang="en">' in html
    assert "Sign in with your phone" in html
    assert "Вход по номеру телефона" not in html


def test_the_switch_wins_over_accept_language() -> None:
    client = Client()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Sign in with your phone" in html


def test_phone_error_in_russian() -> None:
    html = russian_client().post("/", {"phone": "12"}).content.decode()
    assert "Введите корректный номер телефона." in html


def test_code_page_and_its_errors_in_russian(sms_outbox: list[SmsMessage]) -> None:
    client = russian_client()
    assert client.post("/", {"phone": PHONE}).status_code == 302
    html = client.get("/code/").content.decode()
    assert "Шаг 2 из 2" in html
    assert "Мы отправили 4-значный код на номер" in html
    assert ">Изменить номер</a>" in html
    assert "Код не пришёл?" in html
    assert "Новый код можно запросить через <span data-countdown>" in html

    wrong = "1111" if code_from_outbox(sms_outbox, PHONE) == "0000" else "0000"
    html = client.post("/code/", {"code": wrong}).content.decode()
    assert "Неверный код. Осталось 2 попытки." in html
    html = client.post("/code/", {"code": wrong}).content.decode()
    assert "Неверный код. Осталась 1 попытка." in html
    html = client.post("/code/", {"code": "12"}).content.decode()
    assert "Введите 4-значный код из SMS." in html

    html = client.post("/code/resend/").content.decode()
    assert "Код уже отправлен. Подождите, прежде чем запрашивать новый." in html
    assert "Повторите попытку через" in html


def test_profile_in_russian(web_sign_in: Callable[..., Client]) -> None:
    client = web_sign_in(PHONE, russian_client())
    html = client.get("/profile/").content.decode()
    for text in (
        "<title>Профиль · Рефералы</title>",
        "Вы вошли как",
        ">Выйти</button>",
        "Ваш код приглашения",
        "Поделитесь им: бонусные баллы получит и тот, кто его активирует, и вы.",
        "<dt>Баллы</dt>",
        "<dt>Рефералы</dt>",
        "Активируйте код приглашения",
        "Ваши данные",
        "Ваши рефералы",
        "Ваш код пока никто не активировал. Поделитесь им с друзьями!",
        "История баллов",
        "Баллов пока нет. Активируйте код приглашения или пригласите друга.",
    ):
        assert text in html, text

    html = client.post("/profile/invite/", {"invite_code": "ZZZZZZ"}).content.decode()
    assert "Код приглашения не найден." in html


def test_flash_messages_in_russian(web_sign_in: Callable[..., Client]) -> None:
    client = web_sign_in(PHONE, russian_client())
    html = client.get("/profile/").content.decode()
    assert "Добро пожаловать! Ваш аккаунт создан." in html
    response = client.post("/profile/details/", {"first_name": "Анна"}, follow=True)
    assert "Данные сохранены." in response.content.decode()
    response = client.post("/logout/", follow=True)
    assert "Вы вышли из аккаунта." in response.content.decode()
