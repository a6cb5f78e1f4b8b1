#include "auth/master_token.hpp"

#include <catch2/catch.hpp>

using cppworker::auth::master_token_matches;

TEST_CASE("master token: the bearer form and the bare token match", "[unit][auth]") {
    CHECK(master_token_matches("tok", "Bearer tok"));
    CHECK(master_token_matches("tok", "tok"));
}

TEST_CASE("master token: anything else is refused, as is every request without a master token", "[unit][auth]") {
    CHECK_FALSE(master_token_matches("tok", "Bearer tok2"));
    CHECK_FALSE(master_token_matches("tok", "Bearer to"));
    CHECK_FALSE(master_token_matches("tok", "Bearer tik"));
    CHECK_FALSE(master_token_matches("tok", "bearer tok"));
    CHECK_FALSE(master_token_matches("tok", ""));
    CHECK_FALSE(master_token_matches("tok", "Bearer "));
    // PyWorker accepts a request without the header when MASTER_TOKEN is unset; cppworker does not.
    CHECK_FALSE(master_token_matches("", ""));
    CHECK_FALSE(master_token_matches("", "Bearer "));
    CHECK_FALSE(master_token_matches("", "anything"));
}
