-- mix.lua: wrk replays the GETs of a page view: the HTML document, one
-- JSON API call and 18 static assets (scripts, styles, images, fonts), in
-- turn. Zones whose waf.skip lists those extensions inspect 2 requests in
-- 20; Coraza's WrapHandler inspects all of them.
local paths = {
	"/products/list?category=shoes&size=42&sort=price",
	"/assets/app.3f9a0c2d.js", "/assets/vendor.81be2a0c.js", "/assets/app.77c1e0aa.css",
	"/assets/print.0b1e2d3c.css", "/img/logo.svg", "/img/hero.webp", "/img/p/1001.jpg",
	"/img/p/1002.jpg", "/img/p/1003.jpg", "/img/p/1004.jpg", "/img/p/1005.jpg",
	"/img/p/1006.jpg", "/img/icons/cart.svg", "/img/icons/user.svg",
	"/fonts/inter-var.woff2", "/fonts/inter-var-italic.woff2", "/favicon.ico",
	"/api/v1/cart?currency=EUR",
	"/assets/chunk-checkout.5d2f1e0b.js",
}
local i = 0
request = function()
	i = i % #paths + 1
	return wrk.format("GET", paths[i])
end
