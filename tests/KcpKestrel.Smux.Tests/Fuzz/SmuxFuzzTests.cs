using CsCheck;
using KcpKestrel.Smux.Frames;
using KcpKestrel.Smux.Session;
using KcpKestrel.Smux.Tests.Session;

namespace KcpKestrel.Smux.Tests.Fuzz;

/// <summary>
/// Random frame sequences (interleaved with the application's own moves) against the session core, and random bytes
/// against a whole session. Nothing may throw or hang, buffered bytes stay within MaxReceiveBuffer plus one frame, and
/// every frame the core drops, refuses or resets on moves its counter. KCPKESTREL_FUZZ_ITERATIONS raises the count.
/// </summary>
public sealed class SmuxFuzzTests
{
    private const int MaxReceiveBuffer = 200_000;

    private static readonly long Iterations =
        long.TryParse(Environment.GetEnvironmentVariable("KCPKESTREL_FUZZ_ITERATIONS"), out var n) ? n : 2_000;

    /// <summary>One move: a frame from the peer (kinds 0..5) or the application's open, read, FIN, close, accept, send or a clock tick.</summary>
    private readonly record struct Move(int Kind, byte Command, bool WrongVersion, uint StreamId, int Length, uint A, uint B);

    private static readonly Gen<Move> Moves = Gen.Select(
        Gen.Int[0, 12],
        Gen.Byte[0, 6],
        Gen.Int[0, 30],
        Gen.UInt[0, 12],
        Gen.OneOf(Gen.Int[0, 100], Gen.Int[0, 65535]),
        Gen.OneOf(Gen.UInt[0, 70_000], Gen.UInt),
        Gen.UInt,
        (kind, command, version, id, length, a, b) => new Move(kind, command, version == 0, id, length, a, b));

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Core_RandomFrameSequences_NeverThrowStayBoundedAndCountEveryDrop(int version)
    {
        Moves.Array[1, 300].Sample(moves =>
        {
            var core = new SmuxSessionCore(
                new SmuxOptions { Version = version, MaxReceiveBuffer = MaxReceiveBuffer, MaxStreams = 8, AcceptBacklog = 4 },
                isClient: moves[0].StreamId % 2 == 0,
                nowMs: 0);
            var unread = new Dictionary<uint, int>();
            long now = 0;
            foreach (var move in moves)
            {
                Apply(core, move, unread, ref now);
                foreach (var id in unread.Keys.Where(id => !core.IsLive(id)).ToList())
                {
                    unread.Remove(id);
                }

                Assert.InRange(core.SessionBuffered, 0, MaxReceiveBuffer + ushort.MaxValue);
                Assert.Equal(unread.Values.Sum(), core.SessionBuffered);
                Assert.InRange(core.StreamCount, 0, 8);
            }
        }, iter: Iterations, threads: 1);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Session_RandomBytes_EndsWithReasonAndReleasesEverything(int version)
    {
        var valid = SmuxSessionBadInputTests.Frame((byte)version, 0, 3, []);
        var inputs = Gen.OneOf(
            Gen.Byte.Array[0, 600],
            Gen.Select(Gen.Int[1, 40], Gen.Byte.Array[0, 64], (syns, tail) => Enumerable.Repeat(valid, syns).SelectMany(f => f).Concat(tail).ToArray()));
        await inputs.SampleAsync(async input =>
        {
            var transport = new System.IO.Pipelines.Pipe();
            var answers = new System.IO.Pipelines.Pipe();
            var session = new SmuxSession(DuplexPipes.Create(transport.Reader, answers.Writer), isClient: false, new SmuxOptions { Version = version, KeepAliveDisabled = true, AcceptBacklog = 4, MaxStreams = 8 });
            await transport.Writer.WriteAsync(input);
            await transport.Writer.CompleteAsync();

            await session.Completion.WaitAsync(TestWaits.Bound);
            Assert.NotNull(session.CloseReason);
            Assert.Equal((0, 0), (session.StreamCount, session.BufferedBytes));
            await session.DisposeAsync();
        }, iter: Iterations / 10, threads: 1);
    }

    private static void Apply(SmuxSessionCore core, in Move move, Dictionary<uint, int> unread, ref long now)
    {
        var id = move.StreamId;
        switch (move.Kind)
        {
            case <= 5:
                // The shell reads no frame while the session buffer is full.
                if (!core.ReceivePaused)
                {
                    Receive(core, move, unread, now);
                }

                break;
            case 6:
                core.TryOpen(out _);
                break;
            case 7 when unread.TryGetValue(id, out var buffered) && buffered > 0:
                var count = (int)(move.A % (uint)buffered) + 1;
                core.OnConsumed(id, count);
                unread[id] = buffered - count;
                break;
            case 8:
                core.OnLocalFin(id);
                break;
            case 9:
                core.OnInputClosed(id);
                unread.Remove(id);
                break;
            case 10:
                core.OnAccepted(id);
                break;
            case 11:
                core.OnSent(id, (int)(move.A % 70_000));
                _ = core.SendAllowance(id);
                break;
            default:
                now += move.A % 20_000;
                core.Tick(now);
                break;
        }
    }

    private static void Receive(SmuxSessionCore core, in Move move, Dictionary<uint, int> unread, long now)
    {
        Span<byte> bytes = stackalloc byte[SmuxFrameCodec.HeaderSize];
        var length = move.Command is 4 && move.Length % 2 == 0 ? SmuxFrameCodec.UpdateSize : move.Length;
        SmuxFrameCodec.WriteHeader(bytes, move.WrongVersion ? (byte)(core.Version ^ 3) : core.Version, (SmuxCommand)move.Command, length, move.StreamId);
        var before = Snapshot(core);
        var wasClosed = core.IsClosed;
        var status = SmuxFrameCodec.TryParseHeader(bytes, core.Version, out var header);
        var action = status == SmuxParseStatus.Ok ? core.OnFrame(header, now) : core.OnMalformed(status);
        if (action == SmuxReceiveAction.WindowUpdated)
        {
            action = core.OnUpdate(header.StreamId, move.A, move.B);
        }

        var after = Snapshot(core);
        switch (action)
        {
            case SmuxReceiveAction.Deliver:
                unread[header.StreamId] = unread.GetValueOrDefault(header.StreamId) + header.Length;
                break;
            case SmuxReceiveAction.Ignore when !wasClosed && (header.Command is SmuxCommand.Fin or SmuxCommand.Upd || (header.Command == SmuxCommand.Psh && header.Length > 0)):
                Assert.Equal(before.Ignored + 1, after.Ignored);
                break;
            case SmuxReceiveAction.Refuse:
                Assert.Equal(before.Refused + 1, after.Refused);
                break;
            case SmuxReceiveAction.ResetStream:
                Assert.Equal(before.Reset + 1, after.Reset);
                unread.Remove(header.StreamId);
                break;
            case SmuxReceiveAction.CloseSession:
                // Counted once per session: the shell stops reading at the first, but the core must survive more.
                Assert.Equal(before.Errors + (wasClosed ? 0 : 1), after.Errors);
                Assert.NotNull(core.CloseReason);
                unread.Clear();
                break;
        }
    }

    private static (long Ignored, long Refused, long Reset, long Errors) Snapshot(SmuxSessionCore core) =>
        (core.Counters.FramesIgnored, core.Counters.StreamsRefused, core.Counters.StreamsReset, core.Counters.ProtocolErrors);
}
