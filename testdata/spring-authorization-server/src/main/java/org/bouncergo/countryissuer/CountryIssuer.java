package org.bouncergo.countryissuer;

import java.util.List;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.security.oauth2.server.authorization.OAuth2TokenType;
import org.springframework.security.oauth2.server.authorization.token.JwtEncodingContext;
import org.springframework.security.oauth2.server.authorization.token.OAuth2TokenClaimsContext;
import org.springframework.security.oauth2.server.authorization.token.OAuth2TokenCustomizer;

/**
 * Spring Authorization Server as Spring Boot configures it, with the
 * audience customizers of bouncer's set-up guide (examples/README.md,
 * "Spring Authorization Server"): access tokens that carry country.read
 * are meant for country-api, self-contained (JWT) and reference (opaque)
 * ones alike. One line is the tests' own: limited-client's tokens are meant
 * for country-api too, without its scope, so that an API can answer 403.
 */
@SpringBootApplication
public class CountryIssuer {

    public static void main(String[] args) {
        SpringApplication.run(CountryIssuer.class, args);
    }

    @Bean
    OAuth2TokenCustomizer<JwtEncodingContext> countryApiAudience() {
        return context -> {
            if (OAuth2TokenType.ACCESS_TOKEN.equals(context.getTokenType())
                    && context.getAuthorizedScopes().contains("country.read")) {
                context.getClaims().audience(List.of("country-api"));
            }
            // The tests' own line.
            if ("limited-client".equals(context.getRegisteredClient().getClientId())) {
                context.getClaims().audience(List.of("country-api"));
            }
        };
    }

    @Bean
    OAuth2TokenCustomizer<OAuth2TokenClaimsContext> countryApiAudienceOpaque() {
        return context -> {
            if (OAuth2TokenType.ACCESS_TOKEN.equals(context.getTokenType())
                    && context.getAuthorizedScopes().contains("country.read")) {
                context.getClaims().audience(List.of("country-api"));
            }
        };
    }
}
