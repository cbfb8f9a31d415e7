using KcpKestrel.Core.Arq;
using KcpKestrel.Transport.Kcp.Io.Datagrams;

namespace KcpKestrel.Transport.Kcp.Tests;

public sealed class KcpOptionsTests
{
    [Fact]
    public void DefaultsAreValid()
    {
        var options = new KcpOptions { Key = "k" };
        Assert.True(options.TryValidate(out var error));
        Assert.Null(error);
    }

    [Fact]
    public void AnOutOfRangeSettingIsAStructuredErrorAndAnArgumentException()
    {
        var options = new KcpOptions { Key = "k", Mtu = 50 };
        Assert.False(options.TryValidate(out var error));
        Assert.Equal((nameof(KcpOptions.Mtu), "50", "100 to 1500 bytes", (string?)null), (error.Setting, error.Value, error.Accepted, error.OtherSetting));

        var thrown = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Equal(nameof(KcpOptions.Mtu), thrown.ParamName);
        Assert.StartsWith("KCP option Mtu = 50 is not valid; accepted: 100 to 1500 bytes.", thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RulesBetweenSettingsNameBoth()
    {
        var options = new KcpOptions { Key = "k", DataShards = 10, ParityShards = 0 };
        Assert.False(options.TryValidate(out var error));
        Assert.Equal((nameof(KcpOptions.DataShards), nameof(KcpOptions.ParityShards), "10/0"), (error.Setting, error.OtherSetting, error.Value));

        Assert.False(new KcpOptions { Crypt = "aes" }.TryValidate(out var keyError));
        Assert.Equal((nameof(KcpOptions.Key), "(empty)"), (keyError.Setting, keyError.Value));
        Assert.True(new KcpOptions { Crypt = "none" }.TryValidate(out _));
    }

    [Fact]
    public void CopyToCopiesEverySettingAndTheTestSwitches()
    {
        var source = new KcpOptions
        {
            Mode = KcpMode.Manual, NoDelay = 1, Interval = 15, Resend = 3, NoCongestionControl = false, SendWindow = 11, ReceiveWindow = 12,
            Mtu = 1200, DataShards = 4, ParityShards = 2, Crypt = "salsa20", Key = "k", SocketBufferSize = 8192, StreamMode = false,
            DeadLink = 7, IdleTimeout = TimeSpan.FromSeconds(3), AmplificationLimit = 4, UnprovenIdleTimeout = TimeSpan.FromSeconds(2), AddressValidation = false, Migration = false, AddressTokenLifetime = TimeSpan.FromSeconds(4), IoLoopCount = 3, MaxSessions = 5, AcceptQueueDepth = 6,
            NewSessionsPerSecond = 9, TombstoneLifetime = TimeSpan.FromSeconds(1), MaxReadBufferSize = 5000, MaxWriteBufferSize = 6000,
            SessionReceiveBudget = 2 << 20, ListenerReceiveBudget = 3 << 20, FecDecodeCacheBudget = 4096,
            Multiplexing = KcpMultiplexing.Smux, Compression = KcpCompression.Snappy, SmuxVersion = 2, SmuxBuffer = 1 << 20, StreamBuffer = 1 << 17,
            SmuxKeepAlive = TimeSpan.FromSeconds(5), SmuxMaxStreams = 7, SmuxAcceptBacklog = 8,
            Qpp = true, QppCount = 7, CongestionControl = KcpCongestionControl.Bbr, UnsafePreferInlineScheduling = true,
            TailLossProbe = false,
            IoOverrides = new UdpIoOverrides { Gso = false, Mode = UdpIoMode.Socket },
        };
        var target = new KcpOptions();
        source.CopyTo(target);
        foreach (var setting in KcpSettings.All)
        {
            Assert.NotEqual(setting.Default, setting.Get(source));
            Assert.Equal(setting.Get(source), setting.Get(target));
        }

        Assert.Same(source.IoOverrides, target.IoOverrides);
    }

    [Fact]
    public void ModesUseCoresPresetsAndManualUsesTheFourSettings()
    {
        Assert.Equal(KcpNoDelayPreset.Fast3, new KcpOptions { Mode = KcpMode.Fast3 }.EffectiveNoDelay());
        Assert.Equal(KcpNoDelayPreset.Normal, new KcpOptions { Mode = KcpMode.Normal }.EffectiveNoDelay());
        var manual = new KcpOptions { Mode = KcpMode.Manual, NoDelay = 1, Interval = 15, Resend = 0, NoCongestionControl = false };
        Assert.Equal(new KcpNoDelayPreset(1, 15, 0, false), manual.EffectiveNoDelay());
    }
}
