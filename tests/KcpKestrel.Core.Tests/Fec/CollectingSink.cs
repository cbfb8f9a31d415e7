using KcpKestrel.Core.Fec;

namespace KcpKestrel.Core.Tests.Fec;

internal sealed class CollectingSink : IFecSink
{
    public List<byte[]> Payloads { get; } = [];

    public void OnKcpPayload(ReadOnlySpan<byte> kcpBytes, bool recovered) => Payloads.Add(kcpBytes.ToArray());
}
