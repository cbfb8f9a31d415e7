using KcpKestrel.Smux.Frames;
using KcpKestrel.Smux.Session;

namespace KcpKestrel.Smux.Tests.Session;

public sealed class SmuxSessionCoreTests
{
    private static SmuxSessionCore Core(int version = 2, bool isClient = false, Action<SmuxOptions>? configure = null)
    {
        var options = new SmuxOptions { Version = version };
        configure?.Invoke(options);
        return new SmuxSessionCore(options, isClient, nowMs: 0);
    }

    private static SmuxFrameHeader Frame(SmuxCommand command, uint id, ushort length = 0, byte version = 2) => new(version, command, length, id);

    [Fact]
    public void TryOpen_ClientAndServer_UseSmuxOddAndEvenIds()
    {
        var client = Core(isClient: true);
        var server = Core(isClient: false);

        Assert.True(client.TryOpen(out var c1));
        Assert.True(client.TryOpen(out var c2));
        Assert.True(server.TryOpen(out var s1));

        Assert.Equal((3u, 5u, 2u), (c1, c2, s1));
    }

    [Fact]
    public void OnFrame_SynForLiveId_ResetsStream()
    {
        var core = Core();

        Assert.Equal(SmuxReceiveAction.Accept, core.OnFrame(Frame(SmuxCommand.Syn, 3), 0));
        Assert.Equal(SmuxReceiveAction.ResetStream, core.OnFrame(Frame(SmuxCommand.Syn, 3), 0));
        Assert.Equal(1, core.Counters.StreamsReset);
        Assert.Equal(0, core.StreamCount);
        Assert.NotNull(core.LastResetReason);
    }

    [Fact]
    public void OnUpdate_ConsumedPastSent_ResetsStream()
    {
        var core = Core(isClient: true);
        core.TryOpen(out var id);
        core.OnSent(id, 100);

        Assert.Equal(SmuxReceiveAction.WindowUpdated, core.OnUpdate(id, consumed: 100, window: 1000));
        Assert.Equal(SmuxReceiveAction.ResetStream, core.OnUpdate(id, consumed: 101, window: 1000));
        Assert.Equal((1, 1), (core.Counters.ConsumedOverclaims, core.Counters.StreamsReset));
        Assert.False(core.IsLive(id));
    }

    [Fact]
    public void OnFrame_SynPastAcceptBacklog_Refuses()
    {
        var core = Core(configure: o => o.AcceptBacklog = 2);

        core.OnFrame(Frame(SmuxCommand.Syn, 3), 0);
        core.OnFrame(Frame(SmuxCommand.Syn, 5), 0);
        Assert.Equal(SmuxReceiveAction.Refuse, core.OnFrame(Frame(SmuxCommand.Syn, 7), 0));

        core.OnAccepted(3);
        Assert.Equal(SmuxReceiveAction.Accept, core.OnFrame(Frame(SmuxCommand.Syn, 9), 0));
        Assert.Equal(1, core.Counters.StreamsRefused);
    }

    [Fact]
    public void OnFrame_SynPastMaxStreams_Refuses()
    {
        var core = Core(configure: o => o.MaxStreams = 1);

        Assert.True(core.TryOpen(out _));
        Assert.Equal(SmuxReceiveAction.Refuse, core.OnFrame(Frame(SmuxCommand.Syn, 3), 0));
        Assert.False(core.TryOpen(out _));
    }

    [Fact]
    public void OnFrame_PshForUnknownStream_IsIgnored()
    {
        var core = Core();

        Assert.Equal(SmuxReceiveAction.Ignore, core.OnFrame(Frame(SmuxCommand.Psh, 9, 100), 0));
        Assert.Equal(SmuxReceiveAction.Ignore, core.OnFrame(Frame(SmuxCommand.Fin, 9), 0));
        Assert.Equal(SmuxReceiveAction.Ignore, core.OnFrame(Frame(SmuxCommand.Upd, 9, 8), 0));
        Assert.Equal(3, core.Counters.FramesIgnored);
        Assert.Equal(0, core.SessionBuffered);
    }

    [Fact]
    public void OnMalformed_AnyStatus_ClosesSessionWithReason()
    {
        var core = Core();

        Assert.Equal(SmuxReceiveAction.CloseSession, core.OnMalformed(SmuxParseStatus.UnknownCommand));
        Assert.True(core.IsClosed);
        Assert.Contains("UnknownCommand", core.CloseReason, StringComparison.Ordinal);
        Assert.Equal(1, core.Counters.ProtocolErrors);
    }

    [Fact]
    public void OnConsumed_V2_AnnouncesFirstReadThenEachHalfWindow()
    {
        var core = Core(configure: o => o.MaxStreamBuffer = 1000);
        core.OnFrame(Frame(SmuxCommand.Syn, 3), 0);
        core.OnFrame(Frame(SmuxCommand.Psh, 3, 2000), 0);

        Assert.Equal(10u, core.OnConsumed(3, 10));
        Assert.Null(core.OnConsumed(3, 400));
        Assert.Null(core.OnConsumed(3, 99));
        Assert.Equal(510u, core.OnConsumed(3, 1));
        Assert.Equal(1010u, core.OnConsumed(3, 500));
        Assert.Equal(990, core.SessionBuffered);
    }

    [Fact]
    public void OnConsumed_V1_NeverAnnounces()
    {
        var core = Core(version: 1);
        core.OnFrame(Frame(SmuxCommand.Syn, 3, version: 1), 0);
        core.OnFrame(Frame(SmuxCommand.Psh, 3, 100, version: 1), 0);

        Assert.Null(core.OnConsumed(3, 100));
        Assert.Equal(int.MaxValue, core.SendAllowance(3));
    }

    [Fact]
    public void SendAllowance_V2_StartsAtSmuxGuessAndFollowsUpdates()
    {
        var core = Core(isClient: true);
        core.TryOpen(out var id);

        Assert.Equal((int)SmuxSessionCore.InitialPeerWindow, core.SendAllowance(id));
        core.OnSent(id, 262144);
        Assert.Equal(0, core.SendAllowance(id));

        core.OnUpdate(id, consumed: 200000, window: 65536);
        Assert.Equal(65536 - 62144, core.SendAllowance(id));
    }

    [Fact]
    public void OnFrame_V2DataPastWindow_ResetsStream()
    {
        var core = Core(configure: o => o.MaxStreamBuffer = 1000);
        core.OnFrame(Frame(SmuxCommand.Syn, 3), 0);
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(SmuxReceiveAction.Deliver, core.OnFrame(Frame(SmuxCommand.Psh, 3, 65535), 0));
        }

        Assert.Equal(SmuxReceiveAction.ResetStream, core.OnFrame(Frame(SmuxCommand.Psh, 3, 65535), 0));
        Assert.False(core.IsLive(3));
        Assert.Equal(0, core.SessionBuffered);
        Assert.Equal(1, core.Counters.StreamsReset);
    }

    [Fact]
    public void OnFrame_FinBothWays_RemovesStream()
    {
        var core = Core(isClient: true);
        core.TryOpen(out var id);

        Assert.Equal(SmuxReceiveAction.RemoteFin, core.OnFrame(Frame(SmuxCommand.Fin, id), 0));
        Assert.True(core.IsLive(id));
        Assert.True(core.OnLocalFin(id));
        Assert.Equal(0, core.StreamCount);
    }

    [Fact]
    public void OnInputClosed_AfterLocalFin_RemovesStreamAndReleasesBuffer()
    {
        var core = Core(version: 1, isClient: true);
        core.TryOpen(out var id);
        core.OnFrame(Frame(SmuxCommand.Psh, id, 500, version: 1), 0);

        Assert.False(core.OnLocalFin(id));
        Assert.True(core.OnInputClosed(id));
        Assert.Equal(0, core.SessionBuffered);
        Assert.Equal(0, core.StreamCount);
    }

    [Fact]
    public void ReceivePaused_SessionBufferFull_PausesUntilConsumed()
    {
        var core = Core(version: 1, configure: o => { o.MaxReceiveBuffer = 1000; o.MaxStreamBuffer = 1000; });
        core.OnFrame(Frame(SmuxCommand.Syn, 3, version: 1), 0);
        core.OnFrame(Frame(SmuxCommand.Psh, 3, 1000, version: 1), 0);

        Assert.True(core.ReceivePaused);
        core.OnConsumed(3, 1);
        Assert.False(core.ReceivePaused);
    }

    [Fact]
    public void Tick_PeerSilent_SendsNopsThenTimesOut()
    {
        var core = Core();

        Assert.False(core.Tick(9_999));
        Assert.True(core.Tick(10_000));
        Assert.False(core.Tick(15_000));
        Assert.True(core.Tick(20_000));
        core.OnFrame(Frame(SmuxCommand.Nop, 0), 25_000);
        Assert.False(core.Tick(54_999) && core.IsClosed);
        Assert.False(core.IsClosed);

        core.Tick(55_000);
        Assert.True(core.IsClosed);
        Assert.Equal("keepalive timeout", core.CloseReason);
        Assert.Equal(1, core.Counters.KeepAliveTimeouts);
    }

    [Fact]
    public void Tick_ReceivePaused_DoesNotTimeOut()
    {
        var core = Core(version: 1, configure: o => { o.MaxReceiveBuffer = 100; o.MaxStreamBuffer = 100; });
        core.OnFrame(Frame(SmuxCommand.Syn, 3, version: 1), 0);
        core.OnFrame(Frame(SmuxCommand.Psh, 3, 100, version: 1), 0);

        core.Tick(60_000);

        Assert.False(core.IsClosed);
    }

    [Theory]
    [InlineData(nameof(SmuxOptions.Version), 3)]
    [InlineData(nameof(SmuxOptions.MaxFrameSize), 65536)]
    [InlineData(nameof(SmuxOptions.MaxStreamBuffer), 0)]
    [InlineData(nameof(SmuxOptions.AcceptBacklog), 0)]
    public void Validate_OutOfRange_Throws(string name, int value)
    {
        var options = new SmuxOptions();
        typeof(SmuxOptions).GetProperty(name)!.SetValue(options, value);

        var error = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);
        Assert.Equal(name, error.ParamName);
    }
}
