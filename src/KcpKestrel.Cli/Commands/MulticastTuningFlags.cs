using System.CommandLine;
using KcpKestrel.Multicast;

namespace KcpKestrel.Cli.Commands;

/// <summary>
/// <c>--window</c>, <c>--busy-poll</c>, <c>--repair-hold</c> and <c>--no-congestion-control</c>, which <c>multicast pub</c>, <c>sub</c> and <c>bench</c> share; the ranges
/// and defaults are <see cref="MulticastOptions"/>'s (checked again by its Validate).
/// </summary>
internal sealed class MulticastTuningFlags
{
    private readonly Option<int?> _window = Flags.Int(
        "--window", $"Receive buffer per publisher, in packets (MulticastOptions.ReceiveBufferPackets; default {new MulticastOptions().ReceiveBufferPackets})", 16, 1 << 20);

    private readonly Option<bool> _busyPoll = new("--busy-poll")
    {
        Description = "Spin on the socket instead of blocking (MulticastOptions.BusyPoll): lowest latency, one core busy per transport",
    };

    private readonly Option<int?> _repairHold = Flags.Int(
        "--repair-hold",
        $"Milliseconds a NAKed packet may keep its history slot past its send time (MulticastOptions.RepairHold; default {new MulticastOptions().RepairHold.TotalMilliseconds:F0}, 0: off)",
        0,
        10_000);

    private readonly Option<bool> _noCongestionControl = new("--no-congestion-control")
    {
        Description = "Keep the publisher's rate when NAKs show congestion (MulticastOptions.CongestionControl = false)",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(_window);
        command.Options.Add(_busyPoll);
        command.Options.Add(_repairHold);
        command.Options.Add(_noCongestionControl);
    }

    public void Apply(ParseResult result, MulticastOptions options)
    {
        options.ReceiveBufferPackets = result.GetValue(_window) ?? options.ReceiveBufferPackets;
        options.BusyPoll = result.GetValue(_busyPoll);
        options.RepairHold = result.GetValue(_repairHold) is { } hold ? TimeSpan.FromMilliseconds(hold) : options.RepairHold;
        options.CongestionControl = !result.GetValue(_noCongestionControl);
    }
}
