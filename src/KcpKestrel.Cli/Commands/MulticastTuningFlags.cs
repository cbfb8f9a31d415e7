using System.CommandLine;
using KcpKestrel.Multicast;

namespace KcpKestrel.Cli.Commands;

/// <summary>
/// <c>--window</c> and <c>--busy-poll</c>, which <c>multicast pub</c>, <c>sub</c> and <c>bench</c> share; the ranges
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

    public void AddTo(Command command)
    {
        command.Options.Add(_window);
        command.Options.Add(_busyPoll);
    }

    public void Apply(ParseResult result, MulticastOptions options)
    {
        options.ReceiveBufferPackets = result.GetValue(_window) ?? options.ReceiveBufferPackets;
        options.BusyPoll = result.GetValue(_busyPoll);
    }
}
