import { describe, expect, it } from "vitest";
import { href, parseRoute, type Route } from "../../../../src/ui/web/routes.js";

describe("the web UI's hash routes", () => {
  it.each<[string, Route]>([
    ["", { view: "deployments", namespace: "", phase: "", selector: "" }],
    ["#/", { view: "deployments", namespace: "", phase: "", selector: "" }],
    ["#/deployments?namespace=shop&phase=Paused&selector=app%3Dx", { view: "deployments", namespace: "shop", phase: "Paused", selector: "app=x" }],
    ["#/deployments/shop/storefront", { view: "deployment", namespace: "shop", name: "storefront" }],
    ["#/clusters", { view: "clusters" }],
    ["#/definitions", { view: "definitions" }],
    ["#/signin?token=abc.def&next=%2Fclusters", { view: "signin", token: "abc.def", next: "/clusters" }],
    ["#/nowhere", { view: "deployments", namespace: "", phase: "", selector: "" }],
    ["#/deployments?phase=Failed&page=3", { view: "deployments", namespace: "", phase: "Failed", selector: "", page: 3 }],
    // Not a page number, or the first page: the route says nothing of a page.
    ["#/deployments?page=1", { view: "deployments", namespace: "", phase: "", selector: "" }],
    ["#/deployments?page=-2", { view: "deployments", namespace: "", phase: "", selector: "" }],
    ["#/deployments?page=2.5", { view: "deployments", namespace: "", phase: "", selector: "" }],
    ["#/deployments?page=two", { view: "deployments", namespace: "", phase: "", selector: "" }],
  ])("reads %j", (hash, route) => {
    expect(parseRoute(hash)).toEqual(route);
  });

  it.each<Route>([
    { view: "deployments", namespace: "team a", phase: "Failed", selector: "app in (x,y)" },
    { view: "deployments", namespace: "", phase: "", selector: "", page: 7 },
    { view: "deployment", namespace: "shop", name: "store/front" },
    { view: "clusters" },
    { view: "definitions" },
    { view: "signin", next: "/deployments/shop/storefront" },
  ])("builds a link that reads back as the same route: %j", (route) => {
    expect(parseRoute(href(route))).toEqual(route);
  });

  it("never puts a sign-in token into a link it builds", () => {
    expect(href({ view: "signin", token: "secret", next: "/clusters" })).toBe("#/signin?next=%2Fclusters");
  });
});
