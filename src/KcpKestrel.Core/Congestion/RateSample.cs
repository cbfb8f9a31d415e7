namespace KcpKestrel.Core.Congestion;

/// <summary>One delivery-rate sample (see <see cref="DeliveryRateSampler"/>).</summary>
/// <param name="BytesPerMs">Bytes delivered per ms over the sample's interval (0 when not valid).</param>
/// <param name="IsValid">False when the interval was too short to trust.</param>
/// <param name="IsAppLimited">The newest acked segment left while the app, not the path, set the pace.</param>
/// <param name="PriorDelivered">Bytes delivered when the newest acked segment was sent: marks round trips.</param>
/// <param name="AckedBytes">Bytes newly acknowledged by this input.</param>
internal readonly record struct RateSample(double BytesPerMs, bool IsValid, bool IsAppLimited, long PriorDelivered, long AckedBytes);
