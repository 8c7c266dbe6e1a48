%% The dynamic-children figures, OTP's side: a simple_one_for_one supervisor whose children are
%% guards (geb_guard), each installing one supervised {geb_handler, Key} into one gen_event.
%% The twin of event-bench's `dynamic_guards` (src/children.rs); prints the same names.
%%
%%   erl -noshell -pa DIR -s geb_children main            (10,000 and 100,000 children)
%%
%% dynamic_guards_cN_start: per child, from the first supervisor:start_child to the last one's
%% return (each returns once its guard has installed its handler).
%% dynamic_guards_cN_shutdown: per child, the supervisor's shutdown, which returns once every
%% child has ended. The manager then removes each guard's handler as it handles the guard's
%% 'EXIT' (and runs every handler's handle_info with it: quadratic in the children, which is
%% why the manager is killed rather than waited for).
%% dynamic_guards_cN_bytes: per child, the memory of the children's processes, and what the
%% manager (their handlers) and the supervisor (its record of them) grew by.
-module(geb_children).
-behaviour(supervisor).
-export([main/0, init/1]).

main() ->
    [children(N) || N <- [10000, 100000]],
    halt().

init(Manager) ->
    Flags = #{strategy => simple_one_for_one, intensity => 1, period => 5},
    Guard = #{id => guard,
              start => {geb_guard, start_link, [Manager]},
              restart => transient,      % as event-core's Guard
              shutdown => 5000,          % OTP's and event-core's default for workers
              type => worker,
              modules => [geb_guard]},
    {ok, {Flags, [Guard]}}.

now_ns() -> erlang:monotonic_time(nanosecond).

memory(Pid) -> element(2, erlang:process_info(Pid, memory)).

collect(Pids) ->
    [erlang:garbage_collect(P) || P <- Pids],
    erlang:garbage_collect().

children(N) ->
    {ok, M} = gen_event:start(),
    {ok, Sup} = supervisor:start_link(?MODULE, M),
    unlink(Sup),   % its shutdown below must not take the harness with it
    collect([M, Sup]),
    Before = memory(M) + memory(Sup),
    T0 = now_ns(),
    start_children(Sup, N),
    Start = (now_ns() - T0) / N,
    Kids = [P || {_, P, _, _} <- supervisor:which_children(Sup)],
    N = length(Kids),
    collect([M, Sup | Kids]),
    Bytes = (lists:sum([memory(P) || P <- Kids]) + memory(M) + memory(Sup) - Before) / N,
    T1 = now_ns(),
    ok = gen_server:stop(Sup, shutdown, infinity),
    Shutdown = (now_ns() - T1) / N,
    exit(M, kill),
    report(N, "start", Start, "ns"),
    report(N, "shutdown", Shutdown, "ns"),
    report(N, "bytes", Bytes, "B").

start_children(_, 0) -> ok;
start_children(Sup, I) ->
    {ok, _} = supervisor:start_child(Sup, [I]),
    start_children(Sup, I - 1).

report(N, Figure, Value, Unit) ->
    io:format("dynamic_guards_c~b_~s ~.1f ~s~n", [N, Figure, float(Value), Unit]).
