"""The example tool set built with the real embedding model (all-MiniLM-L6-v2) has the data flows it was
designed with."""

from __future__ import annotations

from graph_helpers import example_tools, real_graph


def test_example_tools_real_embeddings_have_the_designed_data_flows():
    data = real_graph(example_tools())
    feeds = {(e["src"].split("/")[-1], e["dst"].split("/")[-1]): e for e in data.feeds}
    for pair in [("search_flights", "book_flight"), ("search_hotels", "book_hotel"), ("geocode_city", "get_weather_forecast"),
                 ("search_restaurants", "reserve_table"), ("book_hotel", "cancel_booking")]:
        assert pair in feeds, f"missing FEEDS {pair}"
    assert feeds[("search_flights", "book_flight")]["to_param"] == "flight_id"
    assert ("book_flight", "search_flights") not in feeds
