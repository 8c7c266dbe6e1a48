%% A handler guard, as lager's watcher and event-core's `Guard`: a gen_server that installs
%% {geb_handler, Key} with add_sup_handler, ends when the handler leaves normally, and installs
%% it again when it leaves any other way.
-module(geb_guard).
-behaviour(gen_server).
-export([start_link/2, init/1, handle_call/3, handle_cast/2, handle_info/2]).

start_link(Manager, Key) ->
    gen_server:start_link(?MODULE, {Manager, Key}, []).

init({Manager, Key}) ->
    ok = gen_event:add_sup_handler(Manager, {geb_handler, Key}, []),
    {ok, {Manager, Key}}.

handle_call(_, _, State) -> {reply, ok, State}.
handle_cast(_, State) -> {noreply, State}.

handle_info({gen_event_EXIT, _, Reason}, State) when Reason =:= normal; Reason =:= shutdown ->
    {stop, normal, State};
handle_info({gen_event_EXIT, _, _Crash}, {Manager, Key} = State) ->
    ok = gen_event:add_sup_handler(Manager, {geb_handler, Key}, []),
    {noreply, State};
handle_info(_, State) -> {noreply, State}.
